-- One row per review-thread comment (GitHub node id), from the submitted reviews whose
-- comments the extract fetched (raw.pull_request_review_comments: the reviews by others
-- than the PR's author, their comment lists complete). A comment's author is its
-- review's; a deleted account has a null login/kind. Null items are skipped.
-- The unnest keeps the shape of unnest_pull_request_list() (macros/staging.sql): columns
-- first, the list unnested in a subquery, so an incremental build's `loaded_at` filter
-- reaches the raw scan.

with

source as (

    select * from {{ source('github', 'pull_request_review_comments') }}

),

comments as (

    select review_id, pull_request_id, repo, pr_number, loaded_at, comment
    from (
        select
            review_id,
            pull_request_id,
            repo,
            pr_number,
            loaded_at,
            unnest(cast(review -> '$.comments.nodes' as json[])) as comment
        from source
    )
    where comment is not null
      and comment ->> '$.id' is not null

),

renamed as (

    select
        comment ->> '$.id'                                  as comment_id,
        review_id,
        pull_request_id,
        repo,
        pr_number,
        cast(comment ->> '$.createdAt' as timestamptz)      as created_at,
        comment ->> '$.author.login'                        as author_login,
        comment ->> '$.author.__typename'                   as author_kind,
        loaded_at
    from comments

)

select * from renamed
