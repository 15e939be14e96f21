-- Grain: one row per response to a pull request. A response is a review in any state but
-- PENDING (at its submitted_at) or a conversation comment (at its created_at) whose
-- author is neither the PR's author nor a bot (Bot type or a `[bot]` login), made before
-- the PR was closed or merged. A deleted responder (null login) counts unless the PR's
-- author is deleted too: the two cannot be told apart then.
--
-- Incremental per PR (dbt_project.yml, macros/incremental.sql): only PRs loaded since
-- the last build.
{%- set loaded_since = loaded_since_last_build() %}

with

pull_requests as (

    select pull_request_id, author_login, closed_at, loaded_at
    from {{ ref('stg_github__pull_requests') }}
    where {{ loaded_since }}

),

reviews as (

    select
        pull_request_id,
        review_id                   as response_id,
        'review'                    as response_type,
        review_state,
        submitted_at                as responded_at,
        reviewer_login              as responder_login,
        reviewer_kind               as responder_kind
    from {{ ref('stg_github__pull_request_reviews') }}
    where {{ loaded_since }}
      and review_state <> 'PENDING'
      and submitted_at is not null

),

comments as (

    select
        pull_request_id,
        comment_id                  as response_id,
        'comment'                   as response_type,
        null                        as review_state,
        created_at                  as responded_at,
        author_login                as responder_login,
        author_kind                 as responder_kind
    from {{ ref('stg_github__pull_request_comments') }}
    where {{ loaded_since }}

),

candidates as (

    select * from reviews
    union all
    select * from comments

),

final as (

    select candidates.*, pull_requests.loaded_at
    from candidates
    inner join pull_requests
        on candidates.pull_request_id = pull_requests.pull_request_id
    where candidates.responder_login is distinct from pull_requests.author_login
      and not {{ is_bot('candidates.responder_login', 'candidates.responder_kind') }}
      and (pull_requests.closed_at is null or candidates.responded_at < pull_requests.closed_at)

)

select * from final
