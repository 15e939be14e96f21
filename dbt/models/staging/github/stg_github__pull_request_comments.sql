-- One row per conversation (issue) comment on a pull request, from the raw timeline's
-- IssueComment items. A commenter whose account was deleted has a null login/kind.

with

source as (

    select * from {{ source('github', 'pull_request_events') }}

),

-- unnest in the select list: a filter on loaded_at reaches the raw scan (see
-- stg_github__pull_request_labels).
unnested as (

    select
        node_id,
        repo,
        pr_number,
        loaded_at,
        unnest(cast(events -> '$.timelineItems.nodes' as json[])) as comment
    from source

),

renamed as (

    select
        comment ->> '$.id'                                  as comment_id,
        node_id                                             as pull_request_id,
        repo,
        pr_number,
        cast(comment ->> '$.createdAt' as timestamptz)      as created_at,
        comment ->> '$.author.login'                        as author_login,
        comment ->> '$.author.__typename'                   as author_kind,
        loaded_at
    from unnested
    where comment is not null
      and comment ->> '$.__typename' = 'IssueComment'
      and comment ->> '$.id' is not null
    -- A comment belongs to one PR, so partitioning by the PR (and its loaded_at, one value
    -- per PR) changes nothing, but lets a filter on loaded_at pass the window.
    qualify row_number() over (partition by node_id, loaded_at, comment ->> '$.id') = 1

)

select * from renamed
