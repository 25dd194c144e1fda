"""Weekly revenue report (pandas): `where`, `on` and `query` are pandas' own arguments."""
import numpy as np
import pandas as pd

orders = pd.read_csv("orders.csv")
users = pd.read_csv("users.csv")

recent = orders.query('status == "paid" and amount > 10')
joined = pd.merge(orders, users, on="user_id", how="left")
joined = joined.join(users.set_index("user_id"), on="user_id", rsuffix="_u")
by_plan = joined.merge(users, on=["user_id", "plan"])
positive = orders.where(orders["amount"] > 0)
flags = np.where(orders["amount"] > 100, "big", "small")

store = pd.HDFStore("cache.h5")
eu = store.select("orders", where='country == "DE" & amount > 5')
last = pd.read_hdf("cache.h5", "orders", where="index > 1000")
week = pd.read_hdf("cache.h5", "orders", where=f"index > {len(orders)}")
spec = dict(where='properties["plan"] == "pro"', on="user_id")
rolling = orders.rolling("7D", on="created_at").sum()
