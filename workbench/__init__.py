"""Services over the database, one subpackage per feature: intake, review, supervision, deliverables, crosscheck,
training, accounts; shared infrastructure (config, db, storage, errors, scope, audit) at the top. See README.md."""
