"""On PostgreSQL the consent ledger refuses UPDATE and DELETE at the database itself, so not even
raw SQL or a bug elsewhere can rewrite the evidence. (TRUNCATE, an owner-only operation, stays
possible: the test runner empties tables with it.)"""

from django.db import migrations

CREATE = """
CREATE OR REPLACE FUNCTION consents_ledger_append_only() RETURNS trigger AS $$
BEGIN
    -- The retention job (and only it) may delete records past their legal keeping period;
    -- it says so with SET LOCAL consents.retention_purge = 'on' inside its transaction.
    IF TG_OP = 'DELETE' AND current_setting('consents.retention_purge', true) = 'on' THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION 'consents_consentevent is append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER consents_consentevent_append_only
    BEFORE UPDATE OR DELETE ON consents_consentevent
    FOR EACH ROW EXECUTE FUNCTION consents_ledger_append_only();
"""

DROP = """
DROP TRIGGER IF EXISTS consents_consentevent_append_only ON consents_consentevent;
DROP FUNCTION IF EXISTS consents_ledger_append_only();
"""


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE, params=None)


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP, params=None)


class Migration(migrations.Migration):
    dependencies = [("consents", "0002_seed_purposes_and_policy")]

    operations = [migrations.RunPython(create, drop)]
