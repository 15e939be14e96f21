{#
    history_spans(): the spans of one kind of item (a label, an assignee, a milestone) on
    each pull request, from the timeline events that add and remove it and the items the
    PR carries now. The body of a span fact's `spans` CTE (fct_pull_request_label_spans,
    _assignee_spans, _milestone_spans); the model renames `item` and the span columns.

    Per pull request and item (its events in timeline order: `created_at`, then
    `timeline_position`, which breaks ties within a second):
      1. each `added_event` starts a span, ended by the first `removed_event` of the same
         item after it; with none, the span stays open (`removed_at` null);
      2. an item the PR carries now with no `added_event` of it at all (given before
         GitHub recorded such events, or imported) starts a span at the PR's opening that
         stays open, added by nobody known (`added_by` null);
      3. a `removed_event` with no `added_event` of that item before it (the item was on
         the PR, unrecorded, until then) ends a span that started at the PR's opening,
         added by nobody known. Rules 1 and 2 are the issue's definition; 3 keeps the
         time such an item spent on the PR, which they would lose.
    `added_by` is the adding event's actor, `ghost` when that account was deleted (as in
    every mart), and null only for the spans of rules 2 and 3.

    `span_id` is unique: the adding event's node id (rule 1), `<pull_request_id>/<item>`
    (rule 2: one per PR and item), or the removing event's node id (rule 3: the item's
    first event, so never an adding one).

    Arguments, relations (CTE names) of the model:
      - pull_requests: pull_request_id, repo, pr_number, opened_at, loaded_at
      - events: pull_request_id, event_id, event_type, created_at, timeline_position,
        item, actor_login; the two event types only, `item` not null
      - carried: pull_request_id, item (one row per item the PR carries now)
      - added_event / removed_event: the GraphQL type names, e.g. 'LabeledEvent'

    Example:
        spans as (
            {{ history_spans('pull_requests', 'label_events', 'labels_carried',
                             'LabeledEvent', 'UnlabeledEvent') }}
        )
#}
{% macro history_spans(pull_requests, events, carried, added_event, removed_event) -%}
    with

    ordered as (

        select
            pull_request_id,
            event_id,
            event_type,
            created_at,
            item,
            actor_login,
            row_number() over (
                partition by pull_request_id, item
                order by created_at, timeline_position
            )                                                    as item_event_number,
            -- the first removal after this event (ascending order: the earliest time)
            min(case when event_type = '{{ removed_event }}' then created_at end) over (
                partition by pull_request_id, item
                order by created_at, timeline_position
                rows between 1 following and unbounded following
            )                                                    as next_removed_at
        from {{ events }}

    ),

    spans as (

        -- 1. an adding event starts a span; the next removal of the item ends it
        select
            event_id                                             as span_id,
            pull_request_id,
            item,
            false                                                as from_opening,
            created_at                                           as added_at,
            next_removed_at                                      as removed_at,
            {{ actor_login('actor_login') }}                     as added_by
        from ordered
        where event_type = '{{ added_event }}'

        union all

        -- 2. carried now, never added by an event: on the PR since its opening
        select
            carried.pull_request_id || '/' || carried.item,
            carried.pull_request_id,
            carried.item,
            true,
            null,
            null,
            null
        from {{ carried }} as carried
        where not exists (
            select 1
            from ordered
            where ordered.pull_request_id = carried.pull_request_id
              and ordered.item = carried.item
              and ordered.event_type = '{{ added_event }}'
        )

        union all

        -- 3. a removal with nothing added before it: on the PR since its opening
        select
            event_id,
            pull_request_id,
            item,
            true,
            null,
            created_at,
            null
        from ordered
        where event_type = '{{ removed_event }}'
          and item_event_number = 1

    )

    select
        spans.span_id,
        spans.pull_request_id,
        pull_requests.repo,
        pull_requests.pr_number,
        spans.item,
        case when spans.from_opening then pull_requests.opened_at else spans.added_at end
                                                                 as added_at,
        spans.removed_at,
        spans.added_by,
        pull_requests.loaded_at
    from spans
    inner join {{ pull_requests }} as pull_requests
        on spans.pull_request_id = pull_requests.pull_request_id
{%- endmacro %}
