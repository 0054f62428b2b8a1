#!/bin/sh
# loom-agent: the entrypoint of Loom's agent images.
#
#   loom-agent [MODE] [ARGS...]
#
#   claude  `loom agent claude`: Claude Code as a worker, claiming work for its capabilities
#   worker  `loom agent run`: a scripted worker that runs $LOOM_EXEC for each work item
#   once    one task ($LOOM_TASK, or the file named by $LOOM_TASK_FILE) done by Claude Code
#           with Loom's MCP servers: it registers, does the task, reports, deregisters
#
# MODE defaults to $LOOM_AGENT_MODE, else claude. Any other first word runs as a command
# (`loom-agent bash`). ARGS are passed on at the end (`loom-agent once --model sonnet`).
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

# Weft passes the item's capability and boundary; a standing agent may list several.
capabilities=${LOOM_CAPABILITIES:-${LOOM_CAPABILITY:-}}
boundaries=${LOOM_BOUNDARIES:-${LOOM_BOUNDARY:-}}
default_ifs=$IFS

# The command is built after the caller's arguments, which are rotated to the end last.
given=$#

if [ "$mode" = once ]; then
    task=${LOOM_TASK:-}
    if [ -z "$task" ] && [ -n "${LOOM_TASK_FILE:-}" ]; then
        [ -r "$LOOM_TASK_FILE" ] || fail "LOOM_TASK_FILE: cannot read '$LOOM_TASK_FILE'"
        task=$(cat -- "$LOOM_TASK_FILE")
    fi
    [ -n "$task" ] || fail "LOOM_TASK: set the task for mode once (or LOOM_TASK_FILE, a file that holds it)"
    claude=$(command -v claude) || fail "claude: the Claude Code CLI is not on PATH"
    warp=$(command -v warp) || fail "warp: Loom's MCP server is not on PATH"
    pattern=$(command -v pattern) || fail "pattern: Loom's MCP server is not on PATH"
    case $warp$pattern in
        *[\"\\]*) fail "PATH: the paths of warp and pattern must not contain quotes or backslashes" ;;
    esac

    set -f
    IFS=', '
    listed=''
    for word in $capabilities; do
        listed="$listed${listed:+, }\"$word\""
    done
    IFS=$default_ifs
    set +f

    # The servers inherit this environment (NATS_*, LOOM_*), so no value is written here.
    config=$(mktemp "${TMPDIR:-/tmp}/loom-mcp.XXXXXX")
    printf '{"mcpServers": {"loom-warp": {"command": "%s", "args": []}, "loom-pattern": {"command": "%s", "args": []}}}\n' \
        "$warp" "$pattern" >"$config"

    channel=${LOOM_REPORT_CHANNEL:-general}
    prompt=$(printf '%s\n' \
        "You are an agent of a Loom team (project ${LOOM_PROJECT_ID:-default}) and have one task." \
        "1. Call register_agent with agentType \"${LOOM_AGENT_TYPE:-claude-code}\" and capabilities [$listed]." \
        "2. Do the task below. Save what the team should know next time with remember_learning." \
        "3. Post a short summary of the outcome on the \`$channel\` channel: create_channel (harmless" \
        "   if it exists), then send_message." \
        "4. Call deregister_agent. Your final answer is the outcome of the task." \
        "" \
        "Task:" \
        "$task")
    set -- "$@" "$claude" -p "$prompt" --mcp-config "$config" \
        --allowedTools "mcp__loom-warp,mcp__loom-pattern${LOOM_ALLOWED_TOOLS:+,$LOOM_ALLOWED_TOOLS}"
else
    [ -n "$capabilities" ] || fail "LOOM_CAPABILITY: set the capability this agent works on (or LOOM_CAPABILITIES, a comma list)"
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
    if [ "$mode" = worker ]; then
        [ -z "${LOOM_EXEC:-}" ] || set -- "$@" --exec "$LOOM_EXEC"
        if [ -n "${LOOM_IDLE_EXIT:-}" ]; then
            seconds LOOM_IDLE_EXIT "$LOOM_IDLE_EXIT"
            set -- "$@" --idle-exit "$LOOM_IDLE_EXIT"
        fi
        [ -z "${LOOM_HANDLE:-}" ] || set -- "$@" --handle "$LOOM_HANDLE"
        [ -z "${LOOM_AGENT_TYPE:-}" ] || set -- "$@" --agent-type "$LOOM_AGENT_TYPE"
    elif [ -n "${LOOM_IDLE_MINUTES:-}" ]; then
        minutes LOOM_IDLE_MINUTES "$LOOM_IDLE_MINUTES"
        set -- "$@" --idle-minutes "$LOOM_IDLE_MINUTES"
    fi
fi

while [ "$given" -gt 0 ]; do
    set -- "$@" "$1"
    shift
    given=$((given - 1))
done
exec "$@"
