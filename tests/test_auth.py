"""Sign-in, sign-out, throttling, CSRF, language, and answers for signed-out callers."""
from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

import pytest

from fieldapp.extensions import db
from fieldapp.models import Role

from .conftest import make_app
from .factories import PASSWORD, make_building, make_user


def test_login_page_renders_in_chinese_by_default(client):
    """The UI is Simplified Chinese unless the user picks English."""
    page = client.get("/login").get_data(as_text=True)
    assert 'lang="zh-CN"' in page and "登录" in page


def test_login_then_home_redirects_housekeeper_to_route_list(client):
    user = make_user(Role.HOUSEKEEPER, buildings=[make_building()])
    response = client.post("/login", data={"username": user.username, "password": PASSWORD})
    assert response.status_code == 303
    assert client.get("/").headers["Location"].endswith("/route")


@pytest.mark.parametrize("username", ["nobody-here", "EXISTING"])
def test_wrong_password_and_unknown_user_get_the_same_message(client, username):
    """The error never reveals whether the user exists, and keeps the typed name."""
    make_user(username="existing")
    response = client.post("/login", data={"username": username, "password": "wrong"})
    page = response.get_data(as_text=True)
    assert response.status_code == 401
    assert "用户名或密码错误" in page
    assert f'value="{username}"' in page


def test_empty_login_form_is_refused_with_field_errors(client):
    response = client.post("/login", data={"username": "", "password": ""})
    assert response.status_code == 422
    assert "field-error" in response.get_data(as_text=True)


@pytest.mark.parametrize("exists", [True, False])
def test_repeated_failures_are_slowed_down(client, exists):
    """After the free attempts, even the right password waits; unknown users alike."""
    if exists:
        make_user(username="victim")
    for _ in range(5):
        assert client.post("/login", data={"username": "victim",
                                           "password": "guess"}).status_code == 401
    response = client.post("/login", data={"username": "victim", "password": PASSWORD})
    assert response.status_code == 429
    assert re.search(r"\d+\s*秒", response.get_data(as_text=True))


def test_inactive_user_cannot_sign_in(client):
    make_user(username="gone", active=False)
    assert client.post("/login", data={"username": "gone", "password": PASSWORD}).status_code == 401


def test_next_only_follows_local_paths(client):
    make_user(username="hk", buildings=[make_building()])
    response = client.post("/login?next=//evil.example/x",
                           data={"username": "hk", "password": PASSWORD})
    assert response.headers["Location"] == "/"
    client.post("/logout")
    response = client.post("/login?next=/account", data={"username": "hk", "password": PASSWORD})
    assert response.headers["Location"] == "/account"


def test_signed_out_callers_get_the_right_kind_of_answer(client):
    """People are redirected, JSON callers get 401 JSON, htmx gets HX-Redirect."""
    assert client.get("/route").status_code == 302
    r = client.get("/route", headers={"Accept": "application/json"})
    assert r.status_code == 401 and r.json["error"] == "login_required"
    r = client.get("/route", headers={"HX-Request": "true"})
    assert r.status_code == 401 and r.headers["HX-Redirect"].startswith("/login")


def test_logout_ends_the_session(client, login_as):
    login_as(make_user(Role.SUPERVISOR))
    assert client.get("/route").status_code == 200
    assert client.post("/logout").status_code == 303
    assert client.get("/route").status_code == 302


def test_language_is_kept_per_user(client, login_as):
    user = make_user(Role.SUPERVISOR)
    login_as(user)
    client.post("/account", data={"locale": "en"})
    assert db.session.get(type(user), user.id).locale == "en"
    page = client.get("/account").get_data(as_text=True)
    assert 'lang="en"' in page and "Sign out" in page


def test_language_switch_before_sign_in(client):
    client.post("/language", data={"locale": "en"})
    assert "Sign in" in client.get("/login").get_data(as_text=True)


def test_healthz_reports_database_status(client):
    r = client.get("/healthz")
    assert r.status_code == 200 and r.json == {"status": "ok", "database": "ok"}


def test_security_headers(client):
    r = client.get("/login")
    assert "script-src 'self'" in r.headers["Content-Security-Policy"]
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    assert r.headers["Referrer-Policy"] == "same-origin"
    cookie = r.headers.get("Set-Cookie", "")
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


@pytest.fixture
def csrf_client(db_url, tmp_path):
    app = make_app(db_url, tmp_path, WTF_CSRF_ENABLED=True)
    with app.app_context():
        yield app.test_client()
    from .conftest import _empty_tables
    _empty_tables(app)


def _token(page: str) -> str:
    return re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)


def test_login_without_csrf_token_is_refused_kindly(csrf_client):
    """A stale or missing token re-shows the sign-in form with a message."""
    make_user(username="hk")
    r = csrf_client.post("/login", data={"username": "hk", "password": PASSWORD})
    assert r.status_code == 400
    assert "登录表单已过期" in r.get_data(as_text=True)


def test_csrf_token_as_header_is_accepted_and_json_gets_json_error(csrf_client):
    make_user(username="hk")
    token = _token(csrf_client.get("/login").get_data(as_text=True))
    r = csrf_client.post("/login", data={"username": "hk", "password": PASSWORD},
                         headers={"X-CSRFToken": token})
    assert r.status_code == 303
    r = csrf_client.post("/logout", headers={"Accept": "application/json"})
    assert r.status_code == 403 and r.json["error"] == "csrf"


def _browser(app, address: str = "10.0.0.1", agent: str = "Phone A"):
    """A separate browser: its own cookies, address and user agent."""
    browser = app.test_client()
    browser.environ_base.update(REMOTE_ADDR=address, HTTP_USER_AGENT=agent)
    return browser


def _signed_in(app, user, **where):
    browser = _browser(app, **where)
    r = browser.post("/login", data={"username": user.username, "password": PASSWORD})
    assert r.status_code == 303, r.get_data(as_text=True)[:300]
    return browser


def _replay(app, **cookies: str):
    """A fresh browser holding only cookies copied from another one."""
    browser = _browser(app)
    for name, value in cookies.items():
        browser.set_cookie(name, value)
    return browser


def test_session_cookie_copied_before_sign_out_is_refused(app):
    """After sign-out, a copy of the session cookie neither reads nor writes."""
    user = make_user(Role.SUPERVISOR)
    browser = _signed_in(app, user)
    copied = browser.get_cookie("session").value
    assert _replay(app, session=copied).get("/route").status_code == 200
    assert browser.post("/logout").status_code == 303
    thief = _replay(app, session=copied)
    assert thief.get("/route").status_code == 302
    assert thief.post("/account", data={"locale": "en"}).status_code == 302
    assert db.session.get(type(user), user.id).locale is None


def test_remember_cookie_copied_before_sign_out_is_refused(app):
    """The one-year remember cookie dies with the sign-in session it names."""
    browser = _signed_in(app, make_user(Role.SUPERVISOR))
    copied = browser.get_cookie("remember_token").value
    assert _replay(app, remember_token=copied).get("/route").status_code == 200
    browser.post("/logout")
    assert browser.get_cookie("remember_token") is None
    assert _replay(app, remember_token=copied).get("/route").status_code == 302


def test_a_session_naming_only_the_user_id_is_refused(client):
    """Cookies from before sign-in sessions (a bare user id) sign nobody in."""
    user = make_user(Role.SUPERVISOR)
    with client.session_transaction() as s:
        s["_user_id"], s["_fresh"] = str(user.id), True
    assert client.get("/route").status_code == 302


def test_sign_in_keeps_only_a_hash_of_the_session_token(app):
    from fieldapp.models import LoginSession
    user = make_user(Role.SUPERVISOR)
    browser = _signed_in(app, user, agent="Mozilla/5.0 " + "x" * 500)
    login = db.session.scalars(db.select(LoginSession)).one()
    token = browser.get_cookie("remember_token").value.split("|")[0].split(":")[1]
    assert login.user_id == user.id and token not in login.token_hash
    assert len(token) >= 32 and login.revoked_at is None
    assert login.user_agent.startswith("Mozilla/5.0") and len(login.user_agent) <= 200


def test_a_deactivated_user_is_signed_out_at_once(app):
    user = make_user(Role.SUPERVISOR)
    browser = _signed_in(app, user)
    user.active = False
    db.session.commit()
    assert browser.get("/route").status_code == 302


def test_a_signed_in_request_loads_user_and_session_in_one_query(app):
    """The sign-in session is checked by a join, not by a second round trip."""
    from sqlalchemy import event
    browser = _signed_in(app, make_user(Role.SUPERVISOR))
    statements = []
    db.session.expire_all()
    listener = lambda *args: statements.append(args[2])  # noqa: E731
    event.listen(db.engine, "before_cursor_execute", listener)
    try:
        assert browser.get("/api/session").status_code == 200
    finally:
        event.remove(db.engine, "before_cursor_execute", listener)
    assert len(statements) == 1, statements


def test_last_seen_is_written_at_most_every_few_minutes(app):
    from datetime import datetime, timedelta, timezone

    from fieldapp.auth.services import load_signed_in, start_login_session
    signed_in = datetime(2026, 11, 22, 8, 0, tzinfo=timezone.utc)
    user = make_user()
    login_id = start_login_session(user, user_agent="Phone", now=signed_in)
    db.session.commit()
    login = load_signed_in(login_id, now=signed_in + timedelta(minutes=2)).login_session
    assert login.last_seen_at.replace(tzinfo=timezone.utc) == signed_in
    later = signed_in + timedelta(minutes=6)
    login = load_signed_in(login_id, now=later).login_session
    db.session.expire_all()
    assert login.last_seen_at.replace(tzinfo=timezone.utc) == later
    assert load_signed_in(f"{user.id}:not-the-token") is None
    assert load_signed_in(f"{user.id + 1}:{login_id.split(':')[1]}") is None


def test_sign_in_and_sign_out_are_audited(app):
    from fieldapp.models import AuditEvent
    user = make_user(Role.SUPERVISOR)
    _signed_in(app, user).post("/logout")
    actions = db.session.scalars(db.select(AuditEvent.action).where(
        AuditEvent.user_id == user.id).order_by(AuditEvent.id)).all()
    assert actions == ["user.sign_in", "user.sign_out"]


def _actions(**where) -> list[str]:
    from fieldapp.models import AuditEvent
    query = db.select(AuditEvent.action).filter_by(**where).order_by(AuditEvent.id)
    return list(db.session.scalars(query))


def test_account_lists_my_signed_in_devices_and_marks_this_one(app):
    user = make_user(Role.SUPERVISOR)
    phone = _signed_in(app, user, agent="Phone A")
    _signed_in(app, user, agent="Laptop B")
    _signed_in(app, make_user(Role.SUPERVISOR), agent="Someone else")
    page = phone.get("/account").get_data(as_text=True)
    assert "Laptop B" in page and "Someone else" not in page
    devices = re.findall(r'<li class="device">(.*?)</li>', page, re.S)
    assert len(devices) == 2
    assert [("本设备" in d) for d in devices] == [("Phone A" in d) for d in devices]
    assert "全部设备退出登录" in page


def test_sign_out_everywhere_ends_every_session_of_mine(app):
    user = make_user(Role.SUPERVISOR)
    phone, laptop = _signed_in(app, user), _signed_in(app, user, agent="Laptop")
    colleague = _signed_in(app, make_user(Role.SUPERVISOR))
    r = phone.post("/account/sessions/revoke")
    assert r.status_code == 303 and r.headers["Location"] == "/login"
    assert phone.get("/route").status_code == 302
    assert laptop.get("/route").status_code == 302
    assert colleague.get("/route").status_code == 200
    assert _actions(entity_id=user.id)[-1] == "user.sign_out_everywhere"


def test_admin_signs_a_user_out_everywhere(app):
    admin_user, user = make_user(Role.ADMIN), make_user(Role.SUPERVISOR)
    admin, victim = _signed_in(app, admin_user), _signed_in(app, user)
    assert f"/users/{user.id}/sessions/revoke" in admin.get("/account").get_data(as_text=True)
    r = admin.post(f"/users/{user.id}/sessions/revoke", data={"next": "/route"})
    assert r.status_code == 303 and r.headers["Location"] == "/route"
    assert victim.get("/route").status_code == 302
    assert admin.get("/route").status_code == 200
    assert _actions(user_id=admin_user.id, entity_id=user.id) == ["user.revoke_sessions"]
    r = admin.post(f"/users/{user.id}/sessions/revoke", data={"next": "//evil.example/"})
    assert r.headers["Location"] == "/account"


@pytest.mark.parametrize("role", [Role.HOUSEKEEPER, Role.SUPERVISOR, Role.ENGINEER])
def test_only_an_admin_signs_others_out(app, role):
    user = make_user(Role.SUPERVISOR)
    victim = _signed_in(app, user)
    r = _signed_in(app, make_user(role)).post(f"/users/{user.id}/sessions/revoke")
    assert r.status_code == 403
    assert victim.get("/route").status_code == 200


def test_admin_sign_out_of_an_unknown_user_is_404(app):
    admin = _signed_in(app, make_user(Role.ADMIN))
    assert admin.post("/users/999999/sessions/revoke").status_code == 404


def _change_password(browser, current=PASSWORD, new="a brand new passphrase", again=None):
    return browser.post("/account/password", data={
        "current_password": current, "new_password": new,
        "confirm_password": new if again is None else again})


def test_changing_the_password_signs_out_every_other_device(app):
    user = make_user(Role.SUPERVISOR)
    phone, laptop = _signed_in(app, user), _signed_in(app, user, agent="Laptop")
    r = _change_password(phone)
    assert r.status_code == 303 and r.headers["Location"] == "/account"
    assert phone.get("/route").status_code == 200
    assert laptop.get("/route").status_code == 302
    assert _browser(app).post("/login", data={"username": user.username,
                                              "password": PASSWORD}).status_code == 401
    assert _browser(app).post("/login", data={"username": user.username,
                                              "password": "a brand new passphrase"}
                              ).status_code == 303
    assert "user.password_change" in _actions(entity_id=user.id)


@pytest.mark.parametrize("fields, field, message", [
    ({"current": "not my password"}, "current_password", "当前密码不正确"),
    ({"new": "too short", "again": "too short"}, "new_password", "至少 10 个字符"),
    ({"again": "a different passphrase"}, "confirm_password", "两次输入的新密码不一致"),
], ids=["wrong-current", "too-short", "mismatch"])
def test_password_form_answers_beside_the_field(app, fields, field, message):
    """A refused change keeps the old password and every session, and says why where."""
    user = make_user(Role.SUPERVISOR)
    phone, laptop = _signed_in(app, user), _signed_in(app, user, agent="Laptop")
    r = _change_password(phone, **fields)
    page = r.get_data(as_text=True)
    assert r.status_code == 422
    beside = re.search(rf'id="{field}"[^>]*>\s*<p class="field-error" id="{field}-error">([^<]*)',
                       page)
    assert beside and message in beside.group(1)
    assert f'value="{user.username}"' in page and "not my password" not in page
    assert laptop.get("/route").status_code == 200
    assert db.session.get(type(user), user.id).check_password(PASSWORD)


def test_set_password_revokes_all_but_the_kept_session(app):
    from fieldapp.auth.services import set_password, start_login_session
    user = make_user()
    start_login_session(user, user_agent="kept")
    kept = user.login_session
    start_login_session(user, user_agent="other")
    assert set_password(user, "another long password", keep_session=kept) == 1
    assert kept.revoked_at is None and user.login_session.revoked_at is not None
    with pytest.raises(ValueError, match="10"):
        set_password(user, "short", keep_session=None)


def test_set_password_command_signs_the_user_out_everywhere(app, runner):
    user = make_user(Role.SUPERVISOR, username="hk")
    browser = _signed_in(app, user)
    result = runner.invoke(args=["set-password", "HK"],
                           input="a brand new passphrase\na brand new passphrase\n")
    assert result.exit_code == 0, result.output
    assert browser.get("/route").status_code == 302
    assert db.session.get(type(user), user.id).check_password("a brand new passphrase")
    assert _actions(entity_id=user.id)[-1] == "user.password_change"


@pytest.mark.parametrize("username, password, error", [
    ("nobody", "a brand new passphrase", "no user"), ("hk", "short", "10 characters")])
def test_set_password_command_refuses_clearly(app, runner, username, password, error):
    make_user(username="hk")
    result = runner.invoke(args=["set-password", username], input=f"{password}\n{password}\n")
    assert result.exit_code == 1 and error in result.output


def test_sign_out_everywhere_needs_the_csrf_token(csrf_client):
    make_user(Role.SUPERVISOR, username="sup")
    token = _token(csrf_client.get("/login").get_data(as_text=True))
    csrf_client.post("/login", data={"username": "sup", "password": PASSWORD,
                                     "csrf_token": token})
    assert csrf_client.post("/account/sessions/revoke").status_code == 400
    assert csrf_client.get("/route").status_code == 200
    token = _token(csrf_client.get("/account").get_data(as_text=True))
    r = csrf_client.post("/account/sessions/revoke", data={"csrf_token": token})
    assert r.status_code == 303 and csrf_client.get("/route").status_code == 302


def _attempt(browser, username: str = "victim", password: str = "guess"):
    return browser.post("/login", data={"username": username, "password": password})


def _error(response) -> str:
    return re.search(r'<p class="form-error"[^>]*>(.*?)</p>',
                     response.get_data(as_text=True), re.S).group(1)


def test_a_guesser_at_one_address_does_not_lock_the_owner_out(app):
    """Failures count per username and address: the owner elsewhere signs in at once."""
    make_user(Role.SUPERVISOR, username="victim")
    guesser = _browser(app, address="203.0.113.7")
    for _ in range(5):
        assert _attempt(guesser).status_code == 401
    assert _attempt(guesser, password=PASSWORD).status_code == 429
    owner = _browser(app, address="198.51.100.2")
    assert _attempt(owner, password=PASSWORD).status_code == 303


def test_the_owners_phone_signs_in_despite_guesses_from_its_own_address(app):
    """A device cookie from an earlier sign-in is judged by its own failures only."""
    user = make_user(Role.SUPERVISOR, username="victim")
    phone = _signed_in(app, user, address="10.1.1.1")
    assert phone.get_cookie("doorstep_device", path="/login") is not None
    phone.post("/logout")
    guesser = _browser(app, address="10.1.1.1")  # the same office Wi-Fi
    for _ in range(6):
        _attempt(guesser)
    assert _attempt(guesser, password=PASSWORD).status_code == 429
    assert _attempt(phone, password=PASSWORD).status_code == 303


def test_the_wait_message_says_when_and_that_the_own_phone_still_works(app):
    make_user(username="victim")
    guesser = _browser(app, address="203.0.113.7")
    for _ in range(5):
        _attempt(guesser)
    error = _error(_attempt(guesser, password=PASSWORD))
    assert re.search(r"15\s*秒", error) and re.search(r"\d{1,2}:\d{2}", error)
    assert "自己的手机" in error


def test_a_phone_locked_by_its_own_failures_is_not_told_to_use_its_own_phone(app):
    user = make_user(username="victim")
    phone = _signed_in(app, user)
    phone.post("/logout")
    for _ in range(5):
        _attempt(phone)
    response = _attempt(phone, password=PASSWORD)
    assert response.status_code == 429 and "自己的手机" not in _error(response)


def test_known_and_unknown_usernames_are_throttled_alike(app):
    """Same statuses and the same words: the throttle does not tell who exists."""
    make_user(username="victim")
    seen = []
    for n, username in enumerate(["victim", "nobody"]):
        browser = _browser(app, address=f"203.0.113.{n + 1}")
        statuses = [_attempt(browser, username).status_code for _ in range(7)]
        refused = _attempt(browser, username, PASSWORD)
        seen.append((statuses, refused.status_code, re.sub(r"\d+", "#", _error(refused)),
                     browser.get_cookie("doorstep_device", path="/login")))
    assert seen[0] == seen[1]


T0 = datetime(2026, 11, 22, 8, 0, tzinfo=timezone.utc)


def _try(password: str = "guess", *, at: datetime, address: str = "10.0.0.9", device=None,
         username: str = "hk", ceiling: int = 1000):
    from fieldapp.auth.services import authenticate
    return authenticate(db.session, username, password, address=address, device=device,
                        free_attempts=5, ceiling=ceiling, now=at)


def test_delays_grow_from_15_seconds_to_15_minutes(app):
    make_user(username="hk")
    for _ in range(5):
        assert _try(at=T0).retry_after == 0
    now, waits = T0, []
    for _ in range(8):
        waits.append(_try(PASSWORD, at=now).retry_after)
        now += timedelta(seconds=waits[-1])
        assert _try(at=now).user is None  # the wait is over; this guess is wrong too
    assert waits == [15, 30, 60, 120, 240, 480, 900, 900]
    now += timedelta(minutes=15)
    assert _try(PASSWORD, at=now).user is not None
    assert _try(at=now).retry_after == 0 and _try(PASSWORD, at=now).user is not None


def test_a_distributed_guess_blocks_untrusted_devices_only(app):
    """The per-username ceiling spans addresses; the owner's phone is not counted."""
    from fieldapp.auth.throttle import Device
    make_user(username="hk")
    for n in range(10):
        _try(at=T0, address=f"10.0.1.{n}", ceiling=10)
    later = T0 + timedelta(minutes=1)
    refused = _try(PASSWORD, at=later, address="10.0.2.1", ceiling=10)
    assert refused.user is None and refused.retry_after == 59 * 60
    assert refused.other_device_works
    phone = Device(username="hk", nonce="n1")
    assert _try(PASSWORD, at=later, address="10.0.2.1", device=phone, ceiling=10).user
    next_hour = T0 + timedelta(hours=1)
    assert _try(PASSWORD, at=next_hour, address="10.0.2.1", ceiling=10).user


def test_a_device_cookie_vouches_only_for_its_own_username(app):
    from fieldapp.auth.throttle import Device
    make_user(username="hk")
    for _ in range(5):
        _try(at=T0)
    someone_elses = Device(username="other", nonce="n1")
    assert _try(PASSWORD, at=T0, device=someone_elses).retry_after == 15


def test_device_cookies_are_signed_and_name_their_user(app):
    from fieldapp.auth.throttle import device_cookie, read_device_cookie
    value = device_cookie("secret", "hk")
    device = read_device_cookie("secret", value)
    assert device.username == "hk" and device.nonce
    assert read_device_cookie("secret", device_cookie("secret", "hk")).nonce != device.nonce
    assert read_device_cookie("another secret", value) is None
    assert read_device_cookie("secret", value[:-3] + "abc") is None
    assert read_device_cookie("secret", None) is None


def test_users_compare_as_rows_whether_signed_in_or_not(app):
    """Flask-Login's UserMixin compares get_id(), which now names a sign-in session."""
    from fieldapp.auth.services import start_login_session
    user, other = make_user(), make_user()
    assert user == db.session.get(type(user), user.id) and user != other
    start_login_session(user, user_agent="Phone")
    assert user in [other, user] and other not in [user]
