"""Revenue: sales and refunds over time, by category and organizer, and where it goes."""

from dashboards import views

views.revenue()
