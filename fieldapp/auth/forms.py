from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField
from wtforms.validators import AnyOf, DataRequired, Length

LANGUAGES = [("zh_CN", "中文"), ("en", "English")]


class LoginForm(FlaskForm):
    username = StringField(_l("Username"), validators=[DataRequired(), Length(max=60)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=200)])


class LanguageForm(FlaskForm):
    locale = StringField(_l("Language"), validators=[DataRequired(),
                                                     AnyOf([code for code, _ in LANGUAGES])])
