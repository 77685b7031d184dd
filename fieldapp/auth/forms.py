from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import Field, PasswordField, StringField
from wtforms.validators import AnyOf, DataRequired, EqualTo, Length, ValidationError

from ..models import User
from .services import MIN_PASSWORD_LENGTH, current_password_wait

LANGUAGES = [("zh_CN", "中文"), ("en", "English")]


class LoginForm(FlaskForm):
    username = StringField(_l("Username"), validators=[DataRequired(), Length(max=60)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=200)])


class LanguageForm(FlaskForm):
    locale = StringField(_l("Language"), validators=[DataRequired(),
                                                     AnyOf([code for code, _ in LANGUAGES])])


class ChangePasswordForm(FlaskForm):
    current_password = PasswordField(_l("Current password"),
                                     validators=[DataRequired(), Length(max=200)])
    new_password = PasswordField(_l("New password"), validators=[
        DataRequired(), Length(min=MIN_PASSWORD_LENGTH, max=200,
                               message=_l("At least %(min)d characters."))])
    confirm_password = PasswordField(_l("New password again"), validators=[
        DataRequired(), EqualTo("new_password", message=_l("The two new passwords differ."))])

    def __init__(self, *args, user: User, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user

    def validate_current_password(self, field: Field) -> None:
        wait = current_password_wait(self.user, field.data or "")
        if wait:
            raise ValidationError(_l("Too many wrong passwords. Please wait %(seconds)s "
                                     "seconds and try again.", seconds=wait))
        if wait is not None:
            raise ValidationError(_l("This is not your current password."))
