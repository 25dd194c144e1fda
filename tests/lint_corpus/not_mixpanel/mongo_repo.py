"""Orders repository on MongoDB (pymongo)."""
from pymongo import MongoClient

client = MongoClient("mongodb://localhost:27017")
db = client.shop


def big_spenders():
    return db.users.find({"$where": "this.total > 1000"})


def log_click(user_id, where):
    db.clicks.insert_one({"user": user_id, "where": "header", "on": "mobile"})
    db.audit.update_one({"on": "signup"}, {"$set": {"where": 'properties["x"] == 1'}})


def paid_orders():
    pipeline = [{"$match": {"status": "paid"}}, {"$lookup": {"from": "users", "on": "uid"}}]
    return db.orders.aggregate(pipeline)
