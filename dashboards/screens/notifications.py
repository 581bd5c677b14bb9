"""Notifications: A/B variants of campaigns and what was sent and failed."""

from dashboards import views

views.notifications()
