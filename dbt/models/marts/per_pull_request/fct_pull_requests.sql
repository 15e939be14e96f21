-- Grain: one row per pull request (GitHub node id), every PR in staging, none dropped.
-- Incremental: only the PRs loaded since the last build are rebuilt, so nothing here may
-- depend on other PRs or on the run's `as_of` (ages live in mart_open_pull_requests).

-- The PRs loaded since this model's last build (every PR on a full build), read once.
{%- set loaded_since = loaded_since_last_build() %}

with

pull_requests as (

    select * from {{ ref('stg_github__pull_requests') }}
    where {{ loaded_since }}

),

reviews as (

    select * from {{ ref('stg_github__pull_request_reviews') }}
    where {{ loaded_since }}

),

list_counts as (

    select * from {{ ref('int_pull_request_list_counts') }}
    where {{ loaded_since }}

),

-- First review: the earliest submitted review (any state but PENDING: APPROVED,
-- CHANGES_REQUESTED, COMMENTED, DISMISSED) by anyone other than the PR's author. A
-- reviewer whose account was deleted counts unless the author's was deleted too (then
-- they cannot be told apart).
review_stats as (

    select
        reviews.pull_request_id,
        min(reviews.submitted_at) filter (
            where reviews.review_state <> 'PENDING'
              and reviews.submitted_at is not null
              and reviews.reviewer_login is distinct from pull_requests.author_login
        )                                                      as first_review_at
    from reviews
    inner join pull_requests
        on reviews.pull_request_id = pull_requests.pull_request_id
    group by 1

),

final as (

    select
        pull_requests.pull_request_id,
        pull_requests.repo,
        pull_requests.pr_number,
        pull_requests.url,
        pull_requests.title,
        pull_requests.state,
        pull_requests.is_draft,
        pull_requests.merged_at is not null                       as is_merged,
        pull_requests.review_decision,
        pull_requests.base_ref_name,
        pull_requests.head_ref_name,

        {{ actor_login('pull_requests.author_login') }}           as author_login,
        {{ actor_kind('pull_requests.author_login', 'pull_requests.author_kind') }}
                                                                  as author_kind,
        case when pull_requests.merged_at is not null
             then {{ actor_login('pull_requests.merged_by_login') }}
        end                                                       as merged_by_login,
        case when pull_requests.merged_at is not null
             then {{ actor_kind('pull_requests.merged_by_login', 'pull_requests.merged_by_kind') }}
        end                                                       as merged_by_kind,

        pull_requests.milestone_id,
        pull_requests.milestone_number,
        pull_requests.milestone_title,
        pull_requests.milestone_state,
        pull_requests.milestone_due_on,

        pull_requests.created_at,
        pull_requests.updated_at,
        pull_requests.closed_at,
        pull_requests.merged_at,
        review_stats.first_review_at,

        {{ hours_between('pull_requests.created_at', 'review_stats.first_review_at') }}
                                                                  as hours_to_first_review,
        {{ hours_between('pull_requests.created_at', 'pull_requests.merged_at') }}
                                                                  as hours_to_merge,

        list_counts.label_count,
        list_counts.assignee_count,
        list_counts.linked_issue_count,
        list_counts.review_count,
        list_counts.review_request_count,

        pull_requests.additions,
        pull_requests.deletions,
        pull_requests.changed_files,

        pull_requests.loaded_at

    from pull_requests
    left join review_stats
        on pull_requests.pull_request_id = review_stats.pull_request_id
    inner join list_counts
        on pull_requests.pull_request_id = list_counts.pull_request_id

)

select * from final
