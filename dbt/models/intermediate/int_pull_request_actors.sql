-- Grain: one row per pull request, with the list of every actor (role, login, GitHub
-- type) that appears on it: author, merger, assignees, reviewers, requested reviewers. A
-- deleted account is a null login (kept: dim_github_users' `ghost` row needs to know it
-- appeared). Teams (requested as reviewers) are not logins and are left out.
-- Incremental, per PR, like the fact: dim_github_users unnests this table instead of every
-- PR's JSON on every build (macros/incremental.sql). A list per PR rather than a row per
-- actor: a quarter of the rows to replace and to test on every build.

-- The PRs loaded since this model's last build (every PR on a full build), read once.
{%- set loaded_since = loaded_since_last_build() %}

with

pull_requests as (

    select * from {{ ref('stg_github__pull_requests') }}
    where {{ loaded_since }}

),

assignees as (

    select * from {{ ref('stg_github__pull_request_assignees') }}
    where {{ loaded_since }}

),

reviews as (

    select * from {{ ref('stg_github__pull_request_reviews') }}
    where {{ loaded_since }}

),

review_requests as (

    select * from {{ ref('stg_github__pull_request_review_requests') }}
    where {{ loaded_since }}

),

-- `kind_rank` 1 = GitHub's own __typename, 2 = assumed (assignees are always users but
-- the query does not ask for their __typename).
appearances as (

    select pull_request_id, 'author' as role, author_login as login, author_kind as kind,
           1 as kind_rank, loaded_at
    from pull_requests

    union all

    -- A merge by a since-deleted account is a null login; an unmerged PR has no merger.
    select pull_request_id, 'merger', merged_by_login, merged_by_kind, 1, loaded_at
    from pull_requests
    where merged_by_login is not null or merged_at is not null

    union all

    select pull_request_id, 'assignee', assignee_login, 'User', 2, loaded_at
    from assignees

    union all

    select pull_request_id, 'reviewer', reviewer_login, reviewer_kind, 1, loaded_at
    from reviews

    union all

    select pull_request_id, 'requested_reviewer', requested_reviewer_login,
           requested_reviewer_kind, 1, loaded_at
    from review_requests
    where requested_reviewer_login is not null

),

final as (

    select
        pull_request_id,
        -- sorted: the same PR gives the same list, whichever build made it
        list(distinct {'role': role, 'login': login, 'kind': kind, 'kind_rank': kind_rank}
             order by {'role': role, 'login': login, 'kind': kind, 'kind_rank': kind_rank})
                                                                        as actors,
        loaded_at
    from appearances
    group by pull_request_id, loaded_at

)

select * from final
