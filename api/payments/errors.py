"""Errors of the payments domain."""

from api.errors import BadRequest, Conflict, Forbidden, NotFound, Unprocessable


class PaymentNotFound(NotFound):
    code = "payment.not_found"


class UnknownTestCard(Unprocessable):
    code = "payment.unknown_test_card"


class ProviderNotConfigured(Unprocessable):
    code = "payment.provider_unavailable"


class NotPayable(Conflict):
    code = "payment.booking_not_payable"


class AlreadyPaid(Conflict):
    code = "payment.already_paid"


class PaymentInProgress(Conflict):
    code = "payment.in_progress"


class NoActionNeeded(Conflict):
    code = "payment.no_action_needed"


class NotRefundable(Conflict):
    code = "refund.not_refundable"


class OverRefund(Conflict):
    code = "refund.exceeds_remaining"


class NotPaymentManager(Forbidden):
    code = "payment.not_allowed"


class UnknownManualMethod(Unprocessable):
    code = "payment.unknown_manual_method"


class NotManual(Conflict):
    code = "payment.not_awaiting_funds"


class UnknownStripeMethod(Unprocessable):
    code = "payment.unknown_stripe_method"


class InvalidWebhook(BadRequest):
    code = "webhook.invalid_signature"


class UnknownWebhookObject(BadRequest):
    code = "webhook.unknown_object"


class InvoiceNotFound(NotFound):
    code = "invoice.not_found"


class NotAnOrganizer(Conflict):
    code = "payment.not_an_organizer"
