"""mpql's own API."""
import mpql
from mpql import Query

mpql.check('properties["distinct_id"] == "u1"', endpoint="export")
tree = mpql.parse("properties['a'] === 1")
q = Query.profiles('event["x"] == 1')
e = Query.events(where='properties["n"] > 1e3', from_date="2024-01-01", to_date="2024-01-02")
