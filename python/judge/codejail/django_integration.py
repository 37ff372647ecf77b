"""The Django middleware that configures `judge.codejail` from
`settings.CODE_JAIL` at start-up, as CodeJail's
`codejail.django_integration.ConfigureCodeJailMiddleware` does: name
`judge.codejail.django_integration.ConfigureCodeJailMiddleware` in
`MIDDLEWARE` instead."""

from django.conf import settings
from django.core.exceptions import MiddlewareNotUsed
from django.utils.deprecation import MiddlewareMixin

from . import django_integration_utils


class ConfigureCodeJailMiddleware(MiddlewareMixin):
    """Runs once at start-up (Django builds the middleware then), applies
    the settings, and takes itself out of the chain."""

    def __init__(self, *args, **kwargs):
        django_integration_utils.apply_django_settings(settings.CODE_JAIL)
        super().__init__(*args, **kwargs)
        raise MiddlewareNotUsed
