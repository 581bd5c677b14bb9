"""Audience: the booking funnel, cohorts and customer segments."""

from dashboards import views

views.audience()
