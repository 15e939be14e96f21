-- One row per item of a pull request head commit's status check rollup (GitHub node id):
-- a check run (an app's job, e.g. a GitHub Actions job) or a commit status context. A
-- re-run adds a second check run of the same name: both are kept. A status context has
-- one time (when it was posted, `started_at` here) and its state stands as conclusion.

with

source as (

    select * from {{ source('github', 'pull_request_checks') }}

),

contexts as (

    select
        node_id,
        loaded_at,
        unnest(list_items)                                      as item,
        generate_subscripts(list_items, 1)                      as position
    from (
        select node_id, loaded_at, cast(rollup -> '$.contexts' as json[]) as list_items
        from source
        where rollup is not null
    )

),

renamed as (

    select
        item ->> '$.id'                                         as check_id,
        node_id                                                 as pull_request_id,
        case item ->> '$.__typename' when 'CheckRun' then 'check_run' else 'status' end
                                                                as kind,
        coalesce(item ->> '$.name', item ->> '$.context')       as check_name,
        item ->> '$.checkSuite.workflowRun.workflow.name'       as workflow_name,
        item ->> '$.checkSuite.workflowRun.event'               as workflow_event,
        item ->> '$.checkSuite.app.slug'                        as app_slug,
        cast(item ->> '$.isRequired' as boolean)                as is_required,
        item ->> '$.status'                                     as status,
        coalesce(item ->> '$.conclusion', item ->> '$.state')   as conclusion,
        cast(coalesce(item ->> '$.startedAt', item ->> '$.createdAt') as timestamptz)
                                                                as started_at,
        cast(item ->> '$.completedAt' as timestamptz)           as completed_at,
        position,
        loaded_at
    from contexts
    where item ->> '$.id' is not null

)

select * from renamed
