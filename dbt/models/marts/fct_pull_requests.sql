-- Grain: one row per pull request (GitHub node id), every PR in staging, none dropped.

with

pull_requests as (

    select * from {{ ref('stg_github__pull_requests') }}

),

reviews as (

    select * from {{ ref('stg_github__pull_request_reviews') }}

),

list_counts as (

    select * from {{ ref('int_pull_request_list_counts') }}

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

as_of as (

    select {{ as_of() }} as as_of

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

        pull_requests.milestone_number,
        pull_requests.milestone_title,

        pull_requests.created_at,
        pull_requests.updated_at,
        pull_requests.closed_at,
        pull_requests.merged_at,
        review_stats.first_review_at,

        {{ hours_between('pull_requests.created_at', 'review_stats.first_review_at') }}
                                                                  as hours_to_first_review,
        {{ hours_between('pull_requests.created_at', 'pull_requests.merged_at') }}
                                                                  as hours_to_merge,
        case when pull_requests.state = 'OPEN'
             then greatest({{ hours_between('pull_requests.created_at', 'as_of.as_of') }}, 0)
        end                                                       as hours_open,

        list_counts.label_count,
        list_counts.assignee_count,
        list_counts.linked_issue_count,
        list_counts.review_count,
        list_counts.review_request_count,

        pull_requests.additions,
        pull_requests.deletions,
        pull_requests.changed_files,

        as_of.as_of,
        pull_requests.loaded_at

    from pull_requests
    cross join as_of
    left join review_stats
        on pull_requests.pull_request_id = review_stats.pull_request_id
    inner join list_counts
        on pull_requests.pull_request_id = list_counts.pull_request_id

)

select * from final
