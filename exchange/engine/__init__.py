"""Layer 4 — the event-sourcing spine: the sequencer (stamps seq and time, journals, then
hands the committed result on), clocks, the runtime that owns a venue and its journal,
snapshots, replay and verify, the SQLite export, the open-interest fold the projections share, and the offline ``paperex replay`` /
``paperex export`` commands.  Imports layers 0-3 only."""
