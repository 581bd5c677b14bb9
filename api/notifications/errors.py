"""Errors of notifications, templates, preferences and provider callbacks."""

from api.errors import Conflict, Forbidden, NotFound, Unprocessable


class NotificationNotFound(NotFound):
    code = "notification.not_found"


class TemplateNotFound(NotFound):
    code = "notification.template_not_found"


class TemplateExists(Conflict):
    code = "notification.template_exists"


class TemplateInvalid(Unprocessable):
    code = "notification.template_invalid"


class UnknownTrigger(Unprocessable):
    code = "notification.unknown_trigger"


class ChannelUnavailable(Unprocessable):
    code = "notification.channel_unavailable"


class PreferenceMandatory(Unprocessable):
    code = "notification.preference_mandatory"


class UnsubscribeLinkInvalid(Unprocessable):
    code = "notification.unsubscribe_invalid"


class WebhookSignatureInvalid(Forbidden):
    code = "notification.webhook_signature_invalid"


class NotRetryable(Conflict):
    code = "notification.not_retryable"


class PushUnavailable(Unprocessable):
    code = "notification.push_unavailable"


class ProviderNotConfigured(NotFound):
    code = "notification.provider_not_configured"
