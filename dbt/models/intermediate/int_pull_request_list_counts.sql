-- Grain: one row per pull request in staging (GitHub node id), every one of them: a PR
-- with an empty list gets 0, never a missing row. Incremental: only the PRs loaded since
-- the last build are counted again (macros/incremental.sql).

-- The PRs loaded since this model's last build (every PR on a full build), read once.
{%- set loaded_since = loaded_since_last_build() %}

with

pull_requests as (

    select pull_request_id, loaded_at
    from {{ ref('stg_github__pull_requests') }}
    where {{ loaded_since }}

),

labels as (

    select pull_request_id, count(*) as label_count
    from {{ ref('stg_github__pull_request_labels') }}
    where {{ loaded_since }}
    group by 1

),

assignees as (

    select pull_request_id, count(*) as assignee_count
    from {{ ref('stg_github__pull_request_assignees') }}
    where {{ loaded_since }}
    group by 1

),

linked_issues as (

    select pull_request_id, count(*) as linked_issue_count
    from {{ ref('stg_github__pull_request_linked_issues') }}
    where {{ loaded_since }}
    group by 1

),

review_requests as (

    select pull_request_id, count(*) as review_request_count
    from {{ ref('stg_github__pull_request_review_requests') }}
    where {{ loaded_since }}
    group by 1

),

reviews as (

    -- Submitted reviews only: a PENDING review is a draft its author has not sent.
    select pull_request_id, count(*) as review_count
    from {{ ref('stg_github__pull_request_reviews') }}
    where review_state <> 'PENDING'
      and {{ loaded_since }}
    group by 1

),

final as (

    select
        pull_requests.pull_request_id,
        coalesce(labels.label_count, 0)                     as label_count,
        coalesce(assignees.assignee_count, 0)               as assignee_count,
        coalesce(linked_issues.linked_issue_count, 0)       as linked_issue_count,
        coalesce(reviews.review_count, 0)                   as review_count,
        coalesce(review_requests.review_request_count, 0)   as review_request_count,
        pull_requests.loaded_at
    from pull_requests
    left join labels using (pull_request_id)
    left join assignees using (pull_request_id)
    left join linked_issues using (pull_request_id)
    left join review_requests using (pull_request_id)
    left join reviews using (pull_request_id)

)

select * from final
