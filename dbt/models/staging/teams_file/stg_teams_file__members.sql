-- One row per team and login the teams file listed at a sync. A login listed twice in one
-- team (in any case) is kept once.

with

source as (

    select * from {{ source('teams_file', 'team_file_syncs') }}

),

teams as (

    select synced_at, loaded_at,
           unnest(map_entries(cast(teams as map(varchar, varchar[])))) as entry
    from source

),

members as (

    select synced_at, loaded_at, entry.key as team, unnest(entry.value) as login
    from teams

),

renamed as (

    select
        synced_at,
        team,
        login,
        loaded_at
    from members
    where login is not null
    qualify row_number() over (partition by synced_at, team, lower(login) order by login) = 1

)

select * from renamed
