"""The API's routers, one module per area: checking, tracing, the service's own state, the page."""
