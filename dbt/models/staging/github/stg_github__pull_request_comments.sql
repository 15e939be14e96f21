-- One row per conversation (issue) comment on a pull request, from the raw timeline's
-- IssueComment items. A commenter whose account was deleted has a null login/kind.

with

source as (

    select * from {{ source('github', 'pull_request_events') }}

),

unnested as (

    select
        source.node_id,
        source.repo,
        source.pr_number,
        item.comment,
        source.loaded_at
    from source
    cross join unnest(cast(source.events -> '$.timelineItems.nodes' as json[])) as item(comment)

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
    qualify row_number() over (partition by comment ->> '$.id') = 1

)

select * from renamed
