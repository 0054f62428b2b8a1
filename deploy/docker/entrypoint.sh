#!/bin/sh
# loom-agent: the entrypoint of Loom's agent images.
#
#   loom-agent [MODE] [ARGS...]
#
#   claude  `loom agent claude`: Claude Code as a worker, claiming work for its capabilities
#   worker  `loom agent run`: a scripted worker that runs $LOOM_EXEC for each work item
#   once    `loom agent claude --task`: one task ($LOOM_TASK, or the file named by
#           $LOOM_TASK_FILE) done by Claude Code with Loom's MCP servers: it registers,
#           does the task, reports it on a channel, deregisters
#
# MODE defaults to $LOOM_AGENT_MODE, else claude. Any other first word runs as a command
# (`loom-agent bash`). ARGS are passed on at the end: to the loom command, or in mode once
# to Claude Code itself (`loom-agent once --model sonnet`).
# Settings come from the environment: the LOOM_* below pick the command and its options;
# NATS_*, LOOM_PROJECT_ID, LOOM_AGENT_ID and the rest are read by Loom itself.
#
# The script execs the final command, so signals and the exit code pass straight through.
# Nothing is evaluated: every value reaches the command as one argument of its own.
set -eu

fail() {
    printf 'loom-agent: %s\n' "$*" >&2
    exit 2
}

# Caught here so the error names the variable, not the flag it becomes.
seconds() {
    case $2 in
        '' | *[!0-9.]* | *.*.* | .) fail "$1: must be a number of seconds (got '$2')" ;;
    esac
}
minutes() {
    case $2 in
        '' | *[!0-9]*) fail "$1: must be a whole number of minutes (got '$2')" ;;
    esac
}

mode=${LOOM_AGENT_MODE:-claude}
case ${1:-} in
    claude | worker | once)
        mode=$1
        shift
        ;;
    '' | -*) ;;
    *) exec "$@" ;;
esac
case $mode in
    claude | worker | once) ;;
    *) fail "LOOM_AGENT_MODE: must be claude, worker or once (got '$mode')" ;;
esac

# Weft passes the item's capability and boundary; a standing agent may list several
# (a task in mode once may have none).
capabilities=${LOOM_CAPABILITIES:-${LOOM_CAPABILITY:-}}
boundaries=${LOOM_BOUNDARIES:-${LOOM_BOUNDARY:-}}
default_ifs=$IFS

# Checked here so the error names the variable, not the option it becomes.
if [ "$mode" = once ]; then
    if [ -n "${LOOM_TASK:-}" ]; then
        task="--task=$LOOM_TASK"
    elif [ -n "${LOOM_TASK_FILE:-}" ]; then
        [ -r "$LOOM_TASK_FILE" ] || fail "LOOM_TASK_FILE: cannot read '$LOOM_TASK_FILE'"
        task="--task-file=$LOOM_TASK_FILE"
    else
        fail "LOOM_TASK: set the task for mode once (or LOOM_TASK_FILE, a file that holds it)"
    fi
else
    [ -n "$capabilities" ] || fail "LOOM_CAPABILITY: set the capability this agent works on (or LOOM_CAPABILITIES, a comma list)"
fi

# The command is built after the caller's arguments, which are rotated to the end last.
given=$#
set -- "$@" loom agent "$([ "$mode" = worker ] && echo run || echo claude)"
set -f
IFS=', '
for word in $capabilities; do
    set -- "$@" --capability "$word"
done
for word in $boundaries; do
    set -- "$@" --boundary "$word"
done
IFS=$default_ifs
set +f
[ -z "${LOOM_AGENT_TYPE:-}" ] || set -- "$@" "--agent-type=$LOOM_AGENT_TYPE"

case $mode in
    worker)
        [ -z "${LOOM_EXEC:-}" ] || set -- "$@" --exec "$LOOM_EXEC"
        if [ -n "${LOOM_IDLE_EXIT:-}" ]; then
            seconds LOOM_IDLE_EXIT "$LOOM_IDLE_EXIT"
            set -- "$@" --idle-exit "$LOOM_IDLE_EXIT"
        fi
        [ -z "${LOOM_HANDLE:-}" ] || set -- "$@" --handle "$LOOM_HANDLE"
        ;;
    claude)
        if [ -n "${LOOM_IDLE_MINUTES:-}" ]; then
            minutes LOOM_IDLE_MINUTES "$LOOM_IDLE_MINUTES"
            set -- "$@" --idle-minutes "$LOOM_IDLE_MINUTES"
        fi
        ;;
    once)
        set -- "$@" "$task"
        [ -z "${LOOM_REPORT_CHANNEL:-}" ] || set -- "$@" "--report-channel=$LOOM_REPORT_CHANNEL"
        # Only commas split the list: a tool may hold spaces and globs (`Bash(git diff:*)`).
        set -f
        IFS=,
        for word in ${LOOM_ALLOWED_TOOLS:-}; do
            [ -z "$word" ] || set -- "$@" "--allow-tool=$word"
        done
        IFS=$default_ifs
        set +f
        # The caller's arguments are Claude Code's own here (`loom-agent once --model sonnet`).
        [ "$given" -eq 0 ] || set -- "$@" --
        ;;
esac

while [ "$given" -gt 0 ]; do
    set -- "$@" "$1"
    shift
    given=$((given - 1))
done
exec "$@"
