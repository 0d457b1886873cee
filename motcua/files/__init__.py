"""Files on a dossier (issue 26): scanned components and signed results.

- `content`: what a file is, judged by its bytes (PDF, JPEG, PNG) and its real page count;
- `crypto` and `keys`: each dossier's files are encrypted under the dossier's own data key,
  kept in a separate key store and wrapped by a master key, so erasing the key erases the
  files (Decree 13/2023/NĐ-CP) and a data backup never brings it back;
- `store`: where the encrypted bytes live (PostgreSQL by default, S3-compatible in production);
- `service`: upload, list, read, reuse and erase, as one layer the API, console and CLI call;
- `signing`: the result document, rendered and signed (PAdES, pyHanko).

The bytes never enter the event store: the dossier's stream gets a `FileAttached` event with
the description and SHA-256 (through the workflow's `attach_file` update).
"""

import warnings

# pyHanko imports cryptography's DSA key type at import time, which cryptography deprecates;
# we never sign or verify with DSA, and the warning would be the first line a CLI user reads
# (`motcua catalog import` answers errors in one line). Only this message is silenced.
warnings.filterwarnings("ignore", message="DSA is deprecated", module="pyhanko")

