"""Event performance: sales against capacity, pace and the sales curve of one event."""

from dashboards import views

views.events()
