"""Errors of the users domain."""

from api.errors import Conflict, Forbidden, NotFound


class UserNotFound(NotFound):
    code = "user.not_found"


class EmailTaken(Conflict):
    code = "user.email_taken"


class CannotChangeOwnAccount(Forbidden):
    code = "admin.own_account"


class UserDeleted(Conflict):
    code = "user.deleted"
