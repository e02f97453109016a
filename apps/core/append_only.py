"""Append-only tables (the staff access log, staff actions, the consent ledger): rows are written once and never
changed or deleted. The model refuses it here; on PostgreSQL a trigger (``append_only_trigger``
in the table's migration) refuses it for whoever connects."""

from __future__ import annotations

from django.db import migrations, models


class AppendOnlyError(PermissionError):
    """Raised on any attempt to edit or delete a row of an append-only table: a refused
    permission, as the PostgreSQL trigger's ``insufficient_privilege`` is."""


def _refuse(model, verb: str):
    raise AppendOnlyError(f"{model._meta.label} is append-only: rows cannot be {verb}")


class AppendOnlyQuerySet(models.QuerySet):
    def update(self, **kwargs):
        _refuse(self.model, "updated")

    def delete(self):
        _refuse(self.model, "deleted")

    def bulk_update(self, objs, fields, batch_size=None):
        _refuse(self.model, "updated")


class AppendOnlyModel(models.Model):
    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        if not self._state.adding:
            _refuse(type(self), "updated")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        _refuse(type(self), "deleted")


def append_only_trigger(table: str) -> migrations.RunPython:
    """The migration operation that makes PostgreSQL refuse UPDATE and DELETE on ``table``
    (other databases rely on the model's refusal)."""
    function = f"{table}_append_only"
    create = [
        f"""
CREATE OR REPLACE FUNCTION {function}() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION '{table} is append-only: UPDATE and DELETE are refused'
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql
""",
        f"""
CREATE TRIGGER {function}
    BEFORE UPDATE OR DELETE ON {table}
    FOR EACH ROW EXECUTE FUNCTION {function}()
""",
    ]
    drop = [
        f"DROP TRIGGER IF EXISTS {function} ON {table}",
        f"DROP FUNCTION IF EXISTS {function}()",
    ]

    def run(statements):
        def apply(apps, schema_editor):
            if schema_editor.connection.vendor == "postgresql":
                for statement in statements:
                    schema_editor.execute(statement)

        return apply

    return migrations.RunPython(run(create), run(drop))
