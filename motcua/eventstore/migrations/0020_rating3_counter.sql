-- Issue 23 item 12: a counter (quầy) of the one-stop desk, so a satisfaction kiosk offers the
-- dossier just returned at its own counter, not a list of every returned code of the unit.
-- A kiosk user names the counter whose screen it is; a clerk the counter they serve at. The
-- kiosk offers the last dossier returned by a clerk of the same unit and counter
-- (`motcua.services.ratings`). Free text ("1", "Quầy 2"), compared exactly; NULL: none.
ALTER TABLE console_users ADD COLUMN counter text
    CHECK (counter IS NULL OR length(counter) BETWEEN 1 AND 32);
