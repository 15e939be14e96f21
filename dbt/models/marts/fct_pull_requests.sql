-- Grain: one row per pull request (GitHub node id), every PR in staging, none dropped.

with

pull_requests as (

    select * from {{ ref('stg_github__pull_requests') }}

),

reviews as (

    select * from {{ ref('stg_github__pull_request_reviews') }}

),

labels as (

    select * from {{ ref('stg_github__pull_request_labels') }}

),

assignees as (

    select * from {{ ref('stg_github__pull_request_assignees') }}

),

linked_issues as (

    select * from {{ ref('stg_github__pull_request_linked_issues') }}

),

review_requests as (

    select * from {{ ref('stg_github__pull_request_review_requests') }}

),

-- First review: the earliest submitted review (any state but PENDING: APPROVED,
-- CHANGES_REQUESTED, COMMENTED, DISMISSED) by anyone other than the PR's author. A
-- reviewer whose account was deleted counts unless the author's was deleted too (then
-- they cannot be told apart).
review_stats as (

    select
        reviews.pull_request_id,
        count(*) filter (
            where reviews.review_state <> 'PENDING'
        )                                                      as review_count,
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

label_counts as (

    select pull_request_id, count(*) as label_count
    from labels
    group by 1

),

assignee_counts as (

    select pull_request_id, count(*) as assignee_count
    from assignees
    group by 1

),

linked_issue_counts as (

    select pull_request_id, count(*) as linked_issue_count
    from linked_issues
    group by 1

),

review_request_counts as (

    select pull_request_id, count(*) as review_request_count
    from review_requests
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

        coalesce(label_counts.label_count, 0)                     as label_count,
        coalesce(assignee_counts.assignee_count, 0)               as assignee_count,
        coalesce(linked_issue_counts.linked_issue_count, 0)       as linked_issue_count,
        coalesce(review_stats.review_count, 0)                    as review_count,
        coalesce(review_request_counts.review_request_count, 0)   as review_request_count,

        pull_requests.additions,
        pull_requests.deletions,
        pull_requests.changed_files,

        as_of.as_of,
        pull_requests.loaded_at

    from pull_requests
    cross join as_of
    left join review_stats
        on pull_requests.pull_request_id = review_stats.pull_request_id
    left join label_counts
        on pull_requests.pull_request_id = label_counts.pull_request_id
    left join assignee_counts
        on pull_requests.pull_request_id = assignee_counts.pull_request_id
    left join linked_issue_counts
        on pull_requests.pull_request_id = linked_issue_counts.pull_request_id
    left join review_request_counts
        on pull_requests.pull_request_id = review_request_counts.pull_request_id

)

select * from final
