"""An async client for the India data centre, and a requests.Session wrapper."""
import httpx
import requests


async def engage_page(page):
    async with httpx.AsyncClient(base_url="https://in.mixpanel.com/api") as client:
        return await client.post("/query/engage",
                                 data={"where": 'properties["mp_country_code"] == "IN"',
                                       "page": page})


class Exporter:
    BASE = "https://data.mixpanel.com/api/2.0/export"

    def __init__(self):
        self.session = requests.Session()

    def run(self, day):
        return self.session.get(self.BASE, params={"from_date": day,
                                                   "where": "properties['$os'] == \"iOS\""})
