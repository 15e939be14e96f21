-- Grain: one row per span of time a label was on a pull request. A span runs from each
-- LabeledEvent to the next UnlabeledEvent of the same label on that PR, or stays open
-- (removed_at null). A label on the PR since before GitHub recorded label events has no
-- LabeledEvent: it starts at the PR's opening (added_by null), and ends at its first
-- UnlabeledEvent if it has one, else stays open while the PR carries it. The rules, in
-- order, are the history_spans macro's (macros/spans.sql).
--
-- Incremental per PR (dbt_project.yml, macros/incremental.sql): only PRs loaded since
-- the last build; nothing here depends on `as_of` (an open span has no end, not an age).
{%- set loaded_since = loaded_since_last_build() %}

with

pull_requests as (

    select pull_request_id, repo, pr_number, created_at as opened_at, loaded_at
    from {{ ref('stg_github__pull_requests') }}
    where {{ loaded_since }}

),

label_events as (

    select
        pull_request_id,
        event_id,
        event_type,
        created_at,
        timeline_position,
        label_name                                                 as item,
        actor_login
    from {{ ref('stg_github__pull_request_timeline_events') }}
    where {{ loaded_since }}
      and event_type in ('LabeledEvent', 'UnlabeledEvent')
      and label_name is not null

),

-- the labels the PR carries now
labels_carried as (

    select pull_request_id, label_name as item
    from {{ ref('stg_github__pull_request_labels') }}
    where {{ loaded_since }}

),

spans as (

    {{ history_spans('pull_requests', 'label_events', 'labels_carried',
                     'LabeledEvent', 'UnlabeledEvent') }}

),

final as (

    select
        span_id,
        pull_request_id,
        repo,
        pr_number,
        item                                                       as label_name,
        added_at,
        removed_at,
        added_by,
        loaded_at
    from spans

)

select * from final
