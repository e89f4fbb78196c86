package dev.substrate.streams;

import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * What a retention policy would delete of one instance's partitions now.
 *
 * @param byProject how many entities of each project it would delete
 * @param ids the first ids it would delete, in id order (a sample, not every one)
 * @param scanned how many index entries were looked at
 * @param partitions the partitions planned
 */
public record RetentionPlan(Map<String, Long> byProject, List<String> ids, long scanned, Set<Integer> partitions) {
    public RetentionPlan {
        byProject = Map.copyOf(byProject);
        ids = List.copyOf(ids);
        partitions = Set.copyOf(partitions);
    }
}
