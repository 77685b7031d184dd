// The phone's share sheet (WeChat, SMS, ...) for a reminder; the SMS link stays as the
// fallback where the Web Share API is missing.
(function () {
  "use strict";
  document.querySelectorAll(".share-button").forEach(function (button) {
    if (!navigator.share) return;
    button.hidden = false;
    button.addEventListener("click", function () {
      navigator.share({ title: button.dataset.shareTitle, text: button.dataset.shareText })
        .catch(function () { /* dismissed by the user */ });
    });
  });
})();
