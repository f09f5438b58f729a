#!/bin/bash
# A signal recorder with a recorder of its own as its child, in the same process group:
#   record-family.sh PARENT_FILE CHILD_FILE
# Both print "ready PID". (As a background job of a non-interactive shell the child starts
# with INT and QUIT ignored, so only the other signals can be recorded there.)
here=$(dirname "$0")
bash "$here/record-signals.sh" "$2" &
exec bash "$here/record-signals.sh" "$1"
