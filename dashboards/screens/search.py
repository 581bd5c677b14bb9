"""Search analytics: top queries, queries that found nothing, click-through."""

from dashboards import views

views.search()
