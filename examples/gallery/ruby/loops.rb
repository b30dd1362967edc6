# Count from 1 to 5
(1..5).each do |i|
  puts "Counting: #{i}"
end

# Add up the numbers from 1 to 100
total = 0
1.upto(100) { |n| total += n }
puts "1 + 2 + ... + 100 = #{total}"

# Draw a triangle
size = 5
row = 1
while row <= size
  puts " " * (size - row) + "*" * (2 * row - 1)
  row += 1
end

# Go through the items of an array
%w[apple banana cherry].each { |fruit| puts "I like #{fruit}s" }
