-- One row per conversation (issue) comment on a pull request, from the raw timeline's
-- IssueComment items. A commenter whose account was deleted has a null login/kind.

with

source as (

    select * from {{ source('github', 'pull_request_events') }}

),

comments as (

    {{ unnest_pull_request_list(
        'source', "events -> '$.timelineItems.nodes'", 'comment',
        unique_by="comment ->> '$.id'",
        where="comment ->> '$.__typename' = 'IssueComment' and comment ->> '$.id' is not null"
    ) }}

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
    from comments

)

select * from renamed
