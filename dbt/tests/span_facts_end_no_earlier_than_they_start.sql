-- Every span of the three span facts that has ended ended no earlier than it started (a
-- removal is matched to the adding event before it in timeline order, and an unrecorded
-- span starts at the PR's opening). Returns the spans that break it.

select 'fct_pull_request_label_spans' as fact, span_id, added_at as started_at,
       removed_at as ended_at
from {{ ref('fct_pull_request_label_spans') }}
where removed_at < added_at

union all

select 'fct_pull_request_assignee_spans', span_id, assigned_at, unassigned_at
from {{ ref('fct_pull_request_assignee_spans') }}
where unassigned_at < assigned_at

union all

select 'fct_pull_request_milestone_spans', span_id, added_at, removed_at
from {{ ref('fct_pull_request_milestone_spans') }}
where removed_at < added_at
