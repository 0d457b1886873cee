-- Transfers between units (issue 22 item 3): the unit holding a dossier now, beside the unit
-- that received it (`unit_code`, which a transfer never changes). The projector writes it
-- with every row (`Dossier.holding_unit_code`); a unit's lists show what it received and
-- what it holds (`motcua.services.listing`). Unit scope on one dossier is read from its
-- events, not from here (docs/decisions.md, "Unit scope").
ALTER TABLE dossiers ADD COLUMN holding_unit_code text;

-- Rows projected before this migration were never transferred. The column stays nullable
-- (NULL reads as the receiving unit) so rows written without it still insert.
UPDATE dossiers SET holding_unit_code = unit_code;

CREATE INDEX dossiers_holding_unit ON dossiers (holding_unit_code, due_at, code);
