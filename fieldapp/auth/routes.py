import math
from datetime import timedelta

from flask import current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import format_time, format_timedelta, ngettext
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user

from ..access import role_required
from ..extensions import db
from ..models import Role, User, utcnow
from ..urls import safe_next
from . import bp
from .forms import LANGUAGES, ChangePasswordForm, LanguageForm, LoginForm
from .services import (
    MIN_PASSWORD_LENGTH,
    LoginResult,
    active_login_sessions,
    authenticate,
    end_login_session,
    set_language,
    set_password,
    set_visited_sink,
    sign_out_everywhere,
    signed_in_users,
    start_login_session,
)
from .throttle import DEVICE_COOKIE, DEVICE_COOKIE_AGE, device_cookie, read_device_cookie


def login_page(form: LoginForm | None = None, error: str | None = None):
    return render_template("auth/login.html", form=form or LoginForm(), error=error)


@bp.route("/login", methods=["GET", "POST"])
def login():
    if current_user.is_authenticated and request.method == "GET":
        return redirect(url_for("main.home"))
    form = LoginForm()
    if not form.validate_on_submit():
        return login_page(form), (422 if request.method == "POST" else 200)
    config = current_app.config
    device = read_device_cookie(config["SECRET_KEY"], request.cookies.get(DEVICE_COOKIE))
    result = authenticate(db.session, form.username.data, form.password.data,
                          address=request.remote_addr or "", device=device,
                          free_attempts=config["LOGIN_FREE_ATTEMPTS"],
                          ceiling=config["LOGIN_CEILING"])
    if result.user is None:
        db.session.commit()
        return _refused(form, result)
    return _sign_in(result.user)


def _refused(form: LoginForm, result: LoginResult):
    if not result.retry_after:
        return login_page(form, _("Wrong username or password.")), 401
    return login_page(form, _wait_message(result)), 429, {"Retry-After": str(result.retry_after)}


def _wait_message(result: LoginResult) -> str:
    """When to try again (rounded up to the minute past one) and, when true, that the
    user's own phone still signs in."""
    seconds = result.retry_after
    wait = timedelta(seconds=seconds if seconds <= 60 else math.ceil(seconds / 60) * 60)
    message = _("Too many failed attempts. Please try again in %(wait)s, after %(time)s.",
                wait=format_timedelta(wait),
                time=format_time(utcnow() + timedelta(seconds=seconds), "medium"))
    if result.other_device_works:
        message += " " + _("Signing in on your own phone, where you have signed in before, "
                           "still works.")
    return message


def _sign_in(user: User):
    config = current_app.config
    session.clear()  # new session id at sign-in (session fixation)
    start_login_session(user, user_agent=request.user_agent.string,
                        address=request.remote_addr or "")
    db.session.commit()
    login_user(user, remember=True)
    response = redirect(safe_next(request.args.get("next")), code=303)
    # Names this browser as the user's own, for the sign-in throttle; kept at sign-out.
    response.set_cookie(DEVICE_COOKIE, device_cookie(config["SECRET_KEY"], user.username),
                        max_age=int(DEVICE_COOKIE_AGE.total_seconds()),
                        path=url_for("auth.login"), secure=config["SESSION_COOKIE_SECURE"],
                        httponly=True, samesite="Strict")
    return response


@bp.post("/logout")
@login_required
def logout():
    end_login_session(current_user)
    db.session.commit()
    session.clear()
    logout_user()  # after clear(): it leaves the order to delete the remember cookie
    return redirect(url_for("auth.login"), code=303)


def account_page(language: LanguageForm | None = None,
                 password: ChangePasswordForm | None = None):
    user = current_user
    return render_template(
        "auth/account.html", languages=LANGUAGES,
        form=language or LanguageForm(formdata=None, locale=user.locale or "zh_CN"),
        password_form=password or ChangePasswordForm(formdata=None, user=user),
        min_password_length=MIN_PASSWORD_LENGTH, devices=active_login_sessions(user),
        this_device=user.login_session,
        signed_in_users=signed_in_users(exclude=user) if user.role == Role.ADMIN else [])


@bp.route("/account", methods=["GET", "POST"])
@login_required
def account():
    form = LanguageForm(locale=current_user.locale or "zh_CN")
    if form.validate_on_submit():
        set_language(current_user, form.locale.data)
        db.session.commit()
        flash(_("Language changed."), "success")
        return redirect(url_for("auth.account"), code=303)
    return account_page(language=form)


@bp.post("/account/route")
@login_required
def route_setting():
    set_visited_sink(current_user, request.form.get("visited_sink") == "1")
    db.session.commit()
    flash(_("Route list setting saved."), "success")
    return redirect(url_for("auth.account"), code=303)


@bp.post("/account/password")
@login_required
def change_password():
    form = ChangePasswordForm(user=current_user)
    if not form.validate_on_submit():
        db.session.commit()  # keeps the count of wrong current passwords
        return account_page(password=form), 422
    set_password(current_user, form.new_password.data,
                 keep_session=current_user.login_session, by=current_user)
    db.session.commit()
    flash(_("Password changed. Every other device has been signed out."), "success")
    return redirect(url_for("auth.account"), code=303)


@bp.post("/account/sessions/revoke")
@login_required
def sign_out_all_devices():
    sign_out_everywhere(current_user, by=current_user)
    db.session.commit()
    session.clear()
    logout_user()
    flash(_("You have been signed out on every device."), "success")
    return redirect(url_for("auth.login"), code=303)


@bp.post("/users/<int:user_id>/sessions/revoke")
@role_required(Role.ADMIN)
def revoke_user_sessions(user_id: int):
    """An admin signs a user out everywhere, say after a phone was lost."""
    user = db.get_or_404(User, user_id)
    revoked = sign_out_everywhere(user, by=current_user)
    db.session.commit()
    flash(ngettext("%(name)s has been signed out on %(num)s device.",
                   "%(name)s has been signed out on %(num)s devices.", revoked,
                   name=user.display_name or user.username), "success")
    return redirect(safe_next(request.form.get("next"), "auth.account"), code=303)


@bp.post("/language")
def language():
    """Language switch on the sign-in page, before anyone is signed in."""
    form = LanguageForm()
    if form.validate_on_submit():
        session["locale"] = form.locale.data
    return redirect(url_for("auth.login"), code=303)
