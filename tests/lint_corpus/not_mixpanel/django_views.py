"""Django models and views."""
from django.db import models
from django.db.models import Q


class Entry(models.Model):
    blog = models.ForeignKey("Blog", on_delete=models.CASCADE)
    status = models.CharField(max_length=10)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["blog"], condition=Q(status="live"),
                                               name="one_live")]
        indexes = [models.Index(fields=["status"], name="ix_status",
                                condition=Q(status="draft"))]


def open_entries():
    return Entry.objects.extra(where=["status = 'open'", "blog_id > 3"])


def search(request):
    where = request.GET.get("where", "")
    return Entry.objects.filter(status=where).extra(where=['headline LIKE "%%x%%"'])
