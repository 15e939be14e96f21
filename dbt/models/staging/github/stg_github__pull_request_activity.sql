-- One row per pull request whose events were fetched: its first commit (commits are
-- oldest first) and GitHub's counts of its commits, timeline items and review threads.

with

source as (

    select * from {{ source('github', 'pull_request_events') }}

),

renamed as (

    select
        node_id                                                              as pull_request_id,
        repo,
        pr_number,

        -- the first commit (null when the PR has none)
        events ->> '$.commits.nodes[0].commit.oid'                           as first_commit_oid,
        cast(events ->> '$.commits.nodes[0].commit.authoredDate' as timestamptz)
                                                                             as first_commit_authored_at,
        cast(events ->> '$.commits.nodes[0].commit.committedDate' as timestamptz)
                                                                             as first_commit_committed_at,
        events ->> '$.commits.nodes[0].commit.author.user.login'             as first_commit_author_login,

        -- GitHub's totalCount of each connection
        cast(events ->> '$.commits.totalCount' as integer)                   as commit_count,
        cast(events ->> '$.reviewThreads.totalCount' as integer)             as review_thread_count,
        cast(events ->> '$.timelineItems.totalCount' as integer)             as timeline_items_total_count,

        cast(updated_at as timestamptz)                                      as events_updated_at,
        run_id,
        page_key,
        loaded_at

    from source

)

select * from renamed
