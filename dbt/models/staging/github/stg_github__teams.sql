-- One row per team of an `ok` sync of an organization's teams: its key (`org/slug`, as
-- GitHub spells it in `combinedSlug`), name and parent team.

with

source as (

    select * from {{ source('github', 'org_teams') }}

),

renamed as (

    select
        lower(org)                                          as org,
        synced_at,
        team ->> '$.id'                                     as team_id,
        team ->> '$.slug'                                   as team_slug,
        coalesce(team ->> '$.combinedSlug',
                 org || '/' || (team ->> '$.slug'))         as team,
        replace(team ->> '$.name', chr(0), '')              as team_name,
        team ->> '$.parentTeam.slug'                        as parent_team_slug,
        loaded_at
    from source

)

select * from renamed
