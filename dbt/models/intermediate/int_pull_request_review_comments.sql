-- Grain: one row per review-thread comment that counts toward a pull request's review
-- depth (`review_comment_count` of fct_pull_request_cycle_time): written by the same
-- people as the reviews `review_count` counts (int_pull_request_responses): neither the
-- PR's author nor a bot (Bot type or a `[bot]` login), before the PR was closed or merged
-- (the comment's created_at). A deleted author (null login) counts unless the PR's
-- author is deleted too: the two cannot be told apart then.
--
-- Incremental per PR (dbt_project.yml, macros/incremental.sql): only PRs loaded since
-- the last build (the load keeps a PR's review rows on its own loaded_at).
{%- set loaded_since = loaded_since_last_build() %}

with

pull_requests as (

    select pull_request_id, author_login, closed_at, loaded_at
    from {{ ref('stg_github__pull_requests') }}
    where {{ loaded_since }}

),

review_comments as (

    select comment_id, review_id, pull_request_id, created_at, author_login, author_kind
    from {{ ref('stg_github__pull_request_review_comments') }}
    where {{ loaded_since }}

),

final as (

    select
        review_comments.comment_id,
        review_comments.review_id,
        review_comments.pull_request_id,
        review_comments.created_at,
        review_comments.author_login,
        pull_requests.loaded_at
    from review_comments
    inner join pull_requests
        on review_comments.pull_request_id = pull_requests.pull_request_id
    where review_comments.author_login is distinct from pull_requests.author_login
      and not {{ is_bot('review_comments.author_login', 'review_comments.author_kind') }}
      and (pull_requests.closed_at is null or review_comments.created_at < pull_requests.closed_at)

)

select * from final
