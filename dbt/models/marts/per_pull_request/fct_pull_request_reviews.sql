-- Grain: one row per review (GitHub review node id) of a pull request, any state, PENDING
-- included: every row of stg_github__pull_request_reviews, none dropped.
-- Owns what the page and analysts ask of a review: who gave it (a deleted account is
-- `ghost`, as in every mart), whether that reviewer is a bot (the `is_bot` macro, the rule
-- behind fct_pull_request_cycle_time.is_bot_author), whether it is a self-review, and
-- whether it counts as a review given (`is_review_given`: the reviews whose earliest
-- `submitted_at` is fct_pull_requests.first_review_at).
-- Incremental per PR (dbt_project.yml, macros/incremental.sql): the reviews of the PRs
-- loaded since the last build replace theirs; nothing here depends on `as_of`.

-- The PRs loaded since this model's last build (every PR on a full build), read once.
{%- set loaded_since = loaded_since_last_build() %}

with

pull_requests as (

    select pull_request_id, author_login, loaded_at
    from {{ ref('stg_github__pull_requests') }}
    where {{ loaded_since }}

),

reviews as (

    select * from {{ ref('stg_github__pull_request_reviews') }}
    where {{ loaded_since }}

),

-- Staging's logins: a deleted account is null there. The comparison is the one
-- fct_pull_requests.first_review_at and int_pull_request_responses make: a deleted
-- reviewer is someone else than a known author, but cannot be told apart from a deleted
-- author (both null), so that review counts as the author's own.
classified as (

    select
        reviews.*,
        reviews.reviewer_login is not distinct from pull_requests.author_login
                                                                   as is_self_review
    from reviews
    inner join pull_requests
        on reviews.pull_request_id = pull_requests.pull_request_id

),

final as (

    select
        review_id,
        pull_request_id,
        repo,
        pr_number,
        {{ actor_login('reviewer_login') }}                        as reviewer_login,
        {{ actor_kind('reviewer_login', 'reviewer_kind') }}        as reviewer_kind,
        review_state,
        submitted_at,
        {{ is_bot('reviewer_login', 'reviewer_kind') }}            as is_bot_reviewer,
        is_self_review,
        -- a review given: submitted (any state but PENDING) on someone else's PR
        coalesce(review_state <> 'PENDING', false) and not is_self_review
                                                                   as is_review_given,
        loaded_at
    from classified

)

select * from final
