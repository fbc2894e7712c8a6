"""The erasure's list of tables covers every table the data inventory declares personal."""

from madoguchi.compliance.inventory import personal_fields
from madoguchi.lifecycle.erasure import STEPS

# The residents' client address in an audit event is hash-chained: it goes with the audit
# retention purge (`madoguchi audit purge`), not with the program's erasure (docs/lifecycle.md).
# The values the erasure's scan looks for are sealed in the erasure's own row until the
# certificate is issued, then overwritten (test_purge checks it).
LEFT_TO_AUDIT_RETENTION = {("audit_auditevent", "client_ip")}
DROPPED_WITH_THE_CERTIFICATE = {("lifecycle_programerasure", "scan_values_sealed")}


class ErasureCoversInventoryTests:
    def test_every_declared_personal_field_lies_in_a_table_the_purge_erases(self, db):
        erased = {step.table for step in STEPS}
        missing = (
            {
                (field.model._meta.db_table, field.field)
                for field in personal_fields()
                if field.model._meta.db_table not in erased
            }
            - LEFT_TO_AUDIT_RETENTION
            - DROPPED_WITH_THE_CERTIFICATE
        )
        assert missing == set()
