-- Rows every test starts with.
INSERT INTO notes (body) VALUES ('first note'), ('second note');
