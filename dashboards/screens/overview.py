"""The overview: headline figures, net revenue per day and the top events."""

from dashboards import views

views.overview()
