-- Grain: one row per repository milestone (repo + milestone number) that at least one
-- pull request points at. `is_overdue` is measured against the `as_of` var.

with

milestones as (

    select * from {{ ref('dim_milestones') }}

),

pull_requests as (

    select * from {{ ref('fct_pull_requests') }}

),

linked_issues as (

    select * from {{ ref('bridge_pull_request_linked_issues') }}

),

as_of as (

    select {{ as_of() }} as as_of

),

pr_counts as (

    select
        repo,
        milestone_number,
        count(*)                                             as prs_total,
        count(*) filter (where state = 'OPEN')               as prs_open,
        count(*) filter (where state = 'OPEN' and is_draft)  as prs_open_draft,
        count(*) filter (where state = 'MERGED')             as prs_merged,
        count(*) filter (where state = 'CLOSED')             as prs_closed_unmerged
    from pull_requests
    where milestone_number is not null
    group by 1, 2

),

issue_counts as (

    select
        pull_requests.repo,
        pull_requests.milestone_number,
        count(distinct linked_issues.issue_id)               as linked_issues,
        count(distinct linked_issues.issue_id) filter (
            where pull_requests.state = 'MERGED'
              and linked_issues.issue_state = 'CLOSED'
        )                                                    as linked_issues_closed_by_merged_prs
    from linked_issues
    inner join pull_requests
        on linked_issues.pull_request_id = pull_requests.pull_request_id
    where pull_requests.milestone_number is not null
    group by 1, 2

),

final as (

    select
        milestones.repo,
        milestones.milestone_number,
        milestones.milestone_title,
        milestones.milestone_state,
        milestones.milestone_due_on,
        coalesce(pr_counts.prs_total, 0)                     as prs_total,
        coalesce(pr_counts.prs_open, 0)                      as prs_open,
        coalesce(pr_counts.prs_open_draft, 0)                as prs_open_draft,
        coalesce(pr_counts.prs_merged, 0)                    as prs_merged,
        coalesce(pr_counts.prs_closed_unmerged, 0)           as prs_closed_unmerged,
        coalesce(issue_counts.linked_issues, 0)              as linked_issues,
        coalesce(issue_counts.linked_issues_closed_by_merged_prs, 0)
                                                             as linked_issues_closed_by_merged_prs,
        coalesce(
            milestones.milestone_due_on < as_of.as_of
            and coalesce(pr_counts.prs_open, 0) > 0,
            false
        )                                                    as is_overdue,
        as_of.as_of
    from milestones
    cross join as_of
    left join pr_counts
        on milestones.repo = pr_counts.repo
       and milestones.milestone_number = pr_counts.milestone_number
    left join issue_counts
        on milestones.repo = issue_counts.repo
       and milestones.milestone_number = issue_counts.milestone_number

)

select * from final
