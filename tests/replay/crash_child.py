"""Child process for the crash test: journals groups of commands and prints an
acknowledgement line for each group only after its commit returned."""
import random
import sys

from exchange.engine.runtime import Runtime
from exchange.contract.commands import CreateAccount, Deposit

data_dir, fsync, seed = sys.argv[1], sys.argv[2], int(sys.argv[3])
rng = random.Random(seed)
rt = Runtime(data_dir=data_dir, fsync=fsync)
next_id = max(rt.venue.accounts, default=0) + 1
print(f"READY {next_id} torn={len(rt.journal.torn_tails)}", flush=True)
while True:
    ids = list(range(next_id, next_id + rng.randint(1, 60)))
    cmds = []
    for i in ids:
        cmds += [CreateAccount(i), Deposit(i, 100_000_000 * i)]
    rt.sequencer.execute(cmds)
    print("ACK " + " ".join(map(str, ids)), flush=True)
    next_id = ids[-1] + 1
